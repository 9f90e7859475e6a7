terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "= 5.100.0"
    }
  }
}

# Region, credentials and endpoint come from the environment (AWS_REGION,
# AWS_ACCESS_KEY_ID/..., AWS_ENDPOINT_URL, or the ECS task role).
# Every taggable resource gets the governance tags.
provider "aws" {
  default_tags {
    tags = local.tags
  }
}
