output "endpoint" {
  description = "Hostname of the instance (without the port)."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "TCP port (5432)."
  value       = aws_db_instance.this.port
}

output "db_name" {
  description = "Name of the database created on the instance."
  value       = aws_db_instance.this.db_name
}

output "username" {
  description = "Master user name."
  value       = aws_db_instance.this.username
}

output "password" {
  description = "Master password."
  value       = terraform_data.password.output
  sensitive   = true
}

output "connection_url" {
  description = "postgres://user:password@host:port/db?sslmode=require"
  value       = local.connection_url
  sensitive   = true
}

output "instance_arn" {
  description = "ARN of the RDS instance."
  value       = aws_db_instance.this.arn
}

output "secret_arn" {
  description = "ARN of the Secrets Manager secret holding the connection details (JSON with a `url` field); use it as ASGARD_DATABASE_URL_SECRET_ARN and grant it via ecs-service grants.secrets_read."
  value       = aws_secretsmanager_secret.connection.arn
}
