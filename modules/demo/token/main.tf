# A token built from Terraform built-ins only.
#
# uuid() draws from crypto/rand (122 random bits per call); each 64-hex chunk is
# sha256 of three uuids (366 random bits in, 256 out). uuid() yields a new value
# on every evaluation, so the token is written once into a terraform_data and
# `ignore_changes = [input]` keeps the stored value on every later plan: a second
# apply is a no-op. Changing `length` replaces the token (triggers_replace), and
# a replacement is planned from the configuration, so it gets a fresh value.
locals {
  chunks = ceil(var.length / 64)
}

resource "terraform_data" "token" {
  input            = sensitive(substr(join("", [for i in range(local.chunks) : sha256("${uuid()}${uuid()}${uuid()}")]), 0, var.length))
  triggers_replace = [var.length]

  lifecycle {
    ignore_changes = [input]
  }
}

# Non-secret metadata lives in its own terraform_data so that changing the label
# (or the governance tags) is an in-place update that keeps the token.
resource "terraform_data" "meta" {
  input = {
    name  = var.name
    label = var.label
    tags  = var.tags
  }
}
