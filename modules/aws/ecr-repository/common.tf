variable "name" {
  description = "Resource name chosen by the requester (Asgard validates ^[a-z][a-z0-9-]{1,40}$)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,40}$", var.name))
    error_message = "name must match ^[a-z][a-z0-9-]{1,40}$."
  }
}

variable "tags" {
  description = "Governance tags written by Asgard (asgard:project, asgard:owner, asgard:cost-center, asgard:classification)."
  type        = map(string)
  default     = {}
}

locals {
  # AWS tag rules: keys <= 128 and values <= 256 characters from letters, digits,
  # spaces and _ . : / = + - @; the aws: prefix is reserved. Empty values are
  # dropped (they cause perpetual diffs with default_tags).
  tag_bad_chars = "/[^\\p{L}\\p{N} _.:/=+@-]/"
  tags = merge(
    {
      for k, v in var.tags :
      substr(replace(k, local.tag_bad_chars, "_"), 0, 128) => substr(replace(v, local.tag_bad_chars, "_"), 0, 256)
      if trimspace(v) != "" && !startswith(lower(k), "aws:")
    },
    { "asgard:module" = "aws/ecr-repository" },
  )
}
