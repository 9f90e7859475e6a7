output "secret_arn" {
  description = "ARN of the Secrets Manager secret (grant it via ecs-service grants.secrets_read, or pass it as *_SECRET_ARN)."
  value       = aws_secretsmanager_secret.this.arn
}

output "secret_name" {
  description = "Name of the Secrets Manager secret."
  value       = aws_secretsmanager_secret.this.name
}

output "value" {
  description = "The secret value: 2 x byte_length lowercase hex characters."
  value       = aws_secretsmanager_secret_version.this.secret_string
  sensitive   = true
}

output "kms_key_id" {
  description = "Id of the KMS key that wraps the secret."
  value       = aws_kms_key.this.key_id
}

output "kms_key_arn" {
  description = "ARN of the KMS key that wraps the secret (grant it via ecs-service grants.kms_decrypt)."
  value       = aws_kms_key.this.arn
}
