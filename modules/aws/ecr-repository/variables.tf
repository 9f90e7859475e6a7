variable "image_tag_mutability" {
  description = "MUTABLE lets a tag be pushed again; IMMUTABLE refuses to overwrite an existing tag."
  type        = string
  default     = "MUTABLE"

  validation {
    condition     = contains(["MUTABLE", "IMMUTABLE"], var.image_tag_mutability)
    error_message = "image_tag_mutability must be MUTABLE or IMMUTABLE."
  }
}

variable "scan_on_push" {
  description = "Scan every pushed image for known vulnerabilities."
  type        = bool
  default     = true
}

variable "force_delete" {
  description = "Allow destroying the repository while it still holds images."
  type        = bool
  default     = true
}
