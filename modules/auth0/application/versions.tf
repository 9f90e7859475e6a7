# NOTE: the auth0/auth0 provider is not in the offline mirror used by Asgard's
# tests, so this module is not exercised there and ships no lock file; the
# first `terraform init` against the registry (or an operator-provided mirror)
# pins it.
terraform {
  required_version = ">= 1.5"

  required_providers {
    auth0 = {
      source  = "auth0/auth0"
      version = "~> 1.0"
    }
  }
}

# Credentials come from the environment of the Terraform child process:
# AUTH0_DOMAIN, AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET (a Machine-to-Machine app
# authorized for the Management API with create/read/update/delete:clients and
# read:client_keys or read:client_credentials, so that client_secret is readable).
provider "auth0" {}
