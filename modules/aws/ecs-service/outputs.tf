output "url" {
  description = "Base URL of the service: https://<alb dns> with a certificate, else http://<alb dns>. Point your DNS name (the certificate's) at alb_dns."
  value       = "${local.https ? "https" : "http"}://${aws_lb.this.dns_name}"
}

output "alb_dns" {
  description = "DNS name of the load balancer (CNAME / alias target)."
  value       = aws_lb.this.dns_name
}

output "alb_zone_id" {
  description = "Route 53 hosted zone id of the load balancer (for an alias record)."
  value       = aws_lb.this.zone_id
}

output "service_arn" {
  description = "ARN of the ECS service."
  value       = aws_ecs_service.this.id
}

output "task_role_arn" {
  description = "ARN of the task role (the application's AWS identity, holding exactly the granted permissions)."
  value       = aws_iam_role.task.arn
}

output "cluster" {
  description = "Name of the ECS cluster."
  value       = aws_ecs_cluster.this.name
}

output "log_group" {
  description = "CloudWatch Logs group receiving the container's stdout/stderr."
  value       = aws_cloudwatch_log_group.this.name
}
