variable "versioning" {
  description = "Keep every version of every object (recommended for data that matters)."
  type        = bool
  default     = true
}

variable "force_destroy" {
  description = "Allow destroying the bucket while it still holds objects (they are deleted with it)."
  type        = bool
  default     = true
}
