output "token" {
  description = "The generated token (hex)."
  value       = terraform_data.token.output
  sensitive   = true
}

output "label" {
  description = "The label stored with the token."
  value       = terraform_data.meta.output.label
}

output "id" {
  description = "Stable identifier of this token (changes only when the token is regenerated)."
  value       = terraform_data.token.id
}
