output "repository_url" {
  description = "Push/pull URL of the repository (<registry>/<name>); tag images as <repository_url>:<tag>."
  value       = aws_ecr_repository.this.repository_url
}

output "repository_arn" {
  description = "ARN of the repository."
  value       = aws_ecr_repository.this.arn
}

output "registry_id" {
  description = "AWS account id of the registry that holds the repository."
  value       = aws_ecr_repository.this.registry_id
}
