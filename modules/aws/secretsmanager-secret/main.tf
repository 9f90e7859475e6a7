# The value is generated with Terraform built-ins (no random provider needed):
# uuid() draws from crypto/rand (122 random bits per call) and every 64-hex
# chunk is sha256 of three uuids (366 random bits in, 256 bits out). uuid()
# changes on every evaluation, so the value is written once into a
# terraform_data whose `input` is then ignored: later plans keep the stored
# value (re-apply is a no-op). Changing byte_length regenerates the value.
locals {
  hex_length = var.byte_length * 2
  chunks     = ceil(local.hex_length / 64)
}

resource "terraform_data" "value" {
  input            = sensitive(substr(join("", [for i in range(local.chunks) : sha256("${uuid()}${uuid()}${uuid()}")]), 0, local.hex_length))
  triggers_replace = [var.byte_length]

  lifecycle {
    ignore_changes = [input]
  }
}

# A customer-managed key wraps the secret so that reading it needs an explicit
# kms:Decrypt grant on this key (see ecs-service `grants.kms_decrypt`).
resource "aws_kms_key" "this" {
  description             = "Wraps Secrets Manager secret ${var.name}"
  deletion_window_in_days = 7
  enable_key_rotation     = true
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}

resource "aws_secretsmanager_secret" "this" {
  name                    = var.name
  description             = "Managed by Asgard (${var.byte_length} random bytes, hex encoded)"
  kms_key_id              = aws_kms_key.this.arn
  recovery_window_in_days = 0 # destroy deletes at once, so the name can be requested again
}

resource "aws_secretsmanager_secret_version" "this" {
  secret_id     = aws_secretsmanager_secret.this.id
  secret_string = terraform_data.value.output
}
