terraform {
  required_version = ">= 1.5"
  # No providers: built-ins only (terraform_data), so this module runs anywhere,
  # offline, in well under a second. Used for trials and for Asgard's own tests.
}
