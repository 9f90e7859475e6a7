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

variable "length" {
  description = "Number of hex characters in the token."
  type        = number
  default     = 32

  validation {
    condition     = var.length >= 16 && var.length <= 256 && floor(var.length) == var.length
    error_message = "length must be a whole number between 16 and 256."
  }
}

variable "label" {
  description = "Free-form label stored beside the token. Changing it is an in-place update; the token is kept."
  type        = string
  default     = ""

  validation {
    condition     = length(var.label) <= 200
    error_message = "label must be at most 200 characters."
  }
}
