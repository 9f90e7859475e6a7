output "client_id" {
  description = "OAuth client id of the application."
  value       = auth0_client.this.client_id
}

output "client_secret" {
  description = "OAuth client secret (empty for spa and native apps, which are public clients)."
  value       = auth0_client_credentials.this.client_secret
  sensitive   = true
}
