locals {
  # RDS identifiers: letters, digits and single hyphens, no trailing hyphen.
  identifier = trim(replace(var.name, "/-+/", "-"), "-")
  # Database names: letters, digits and underscores.
  db_name  = replace(local.identifier, "-", "_")
  username = "dbadmin"
}

# Master password from Terraform built-ins (no random provider): 40 hex chars
# of sha256 over three crypto/rand uuids. Hex needs no escaping in a URL and
# avoids the characters RDS refuses (/ @ " space). Stored once, then kept
# (`ignore_changes`), so re-applying is a no-op.
resource "terraform_data" "password" {
  input = sensitive(substr(sha256("${uuid()}${uuid()}${uuid()}"), 0, 40))

  lifecycle {
    ignore_changes = [input]
  }
}

resource "aws_db_instance" "this" {
  identifier     = local.identifier
  engine         = "postgres"
  engine_version = var.engine_version
  instance_class = var.instance_class

  allocated_storage = var.allocated_storage
  storage_type      = "gp3"
  storage_encrypted = true

  db_name  = local.db_name
  username = local.username
  password = terraform_data.password.output
  port     = 5432

  db_subnet_group_name   = var.db_subnet_group_name == "" ? null : var.db_subnet_group_name
  vpc_security_group_ids = length(var.vpc_security_group_ids) == 0 ? null : var.vpc_security_group_ids
  publicly_accessible    = false

  backup_retention_period     = 7
  copy_tags_to_snapshot       = true
  auto_minor_version_upgrade  = true
  allow_major_version_upgrade = true
  apply_immediately           = true
  deletion_protection         = false

  skip_final_snapshot = var.skip_final_snapshot
  # Unique per instance (derived from this instance's generated id), so a
  # destroyed-and-recreated database never collides with an older snapshot.
  final_snapshot_identifier = "${local.identifier}-final-${substr(sha256(terraform_data.password.id), 0, 8)}"
}

locals {
  connection_url = format(
    "postgres://%s:%s@%s:%d/%s?sslmode=require",
    local.username,
    terraform_data.password.output,
    aws_db_instance.this.address,
    aws_db_instance.this.port,
    local.db_name,
  )
}

# The connection details in Secrets Manager, for workloads that read their
# database URL at boot (e.g. ASGARD_DATABASE_URL_SECRET_ARN): JSON with a `url`
# field plus the usual RDS keys. Encrypted with the account's aws/secretsmanager
# key, so reading it needs only secretsmanager:GetSecretValue on this ARN.
resource "aws_secretsmanager_secret" "connection" {
  name                    = "${var.name}/connection"
  description             = "Connection details of RDS PostgreSQL ${local.identifier} (managed by Asgard)"
  recovery_window_in_days = 0
}

resource "aws_secretsmanager_secret_version" "connection" {
  secret_id = aws_secretsmanager_secret.connection.id
  secret_string = jsonencode({
    url      = local.connection_url
    engine   = "postgres"
    host     = aws_db_instance.this.address
    port     = aws_db_instance.this.port
    dbname   = local.db_name
    username = local.username
    password = terraform_data.password.output
  })
}
