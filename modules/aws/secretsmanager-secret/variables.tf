variable "byte_length" {
  description = "Number of random bytes in the secret; the value is their hex encoding (2 x byte_length characters). 32 gives a 64-hex key usable as ASGARD_SECRET_KEY."
  type        = number
  default     = 32

  validation {
    condition     = var.byte_length >= 16 && var.byte_length <= 256 && floor(var.byte_length) == var.byte_length
    error_message = "byte_length must be a whole number between 16 and 256."
  }
}
