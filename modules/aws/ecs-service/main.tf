data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

data "aws_vpc" "this" {
  id = var.vpc_id
}

locals {
  https     = var.certificate_arn != ""
  base      = trim(replace(var.name, "/-+/", "-"), "-")
  name_hash = substr(sha256(var.name), 0, 8)
  # Load balancer names: <= 32 chars, no leading "internal-".
  lb_base = startswith(local.base, "internal-") ? "svc-${local.base}" : local.base
  lb_name = length(local.lb_base) <= 32 ? local.lb_base : "${trim(substr(local.lb_base, 0, 23), "-")}-${local.name_hash}"
  # Target group names: <= 32 chars. The port is part of the name so that a
  # port change can create the new group before the old one is removed.
  tg_base = length(local.base) <= 26 ? local.base : "${trim(substr(local.base, 0, 17), "-")}-${local.name_hash}"
  tg_name = "${local.tg_base}-${var.container_port}"

  container_name = "app"
  account_id     = data.aws_caller_identity.current.account_id
  region         = data.aws_region.current.name
  partition      = data.aws_partition.current.partition

  # Valid Fargate cpu/memory pairs.
  memory_mib = tonumber(var.memory)
  fargate_memory_ok = {
    "256"   = contains([512, 1024, 2048], local.memory_mib)
    "512"   = local.memory_mib >= 1024 && local.memory_mib <= 4096 && local.memory_mib % 1024 == 0
    "1024"  = local.memory_mib >= 2048 && local.memory_mib <= 8192 && local.memory_mib % 1024 == 0
    "2048"  = local.memory_mib >= 4096 && local.memory_mib <= 16384 && local.memory_mib % 1024 == 0
    "4096"  = local.memory_mib >= 8192 && local.memory_mib <= 30720 && local.memory_mib % 1024 == 0
    "8192"  = local.memory_mib >= 16384 && local.memory_mib <= 61440 && local.memory_mib % 4096 == 0
    "16384" = local.memory_mib >= 32768 && local.memory_mib <= 122880 && local.memory_mib % 8192 == 0
  }

  # Pull permissions are scoped to the image's ECR repository when the image
  # lives in ECR; any other registry needs no AWS permission.
  ecr_match = try(regex("^([0-9]{12})\\.dkr\\.ecr\\.([a-z0-9-]+)\\.amazonaws\\.com(\\.cn)?/([^:@]+)", var.image), null)
  ecr_repository_arn = local.ecr_match == null ? null : format(
    "arn:%s:ecr:%s:%s:repository/%s",
    local.ecr_match[2] == ".cn" ? "aws-cn" : "aws", local.ecr_match[1], local.ecr_match[0], local.ecr_match[3],
  )

  # IAM resources for `secrets`: the secret ARN without a :json-key:stage:version suffix.
  exec_secret_arns = distinct([for v in values(var.secrets) : join(":", slice(split(":", v), 0, 7))])
}

# ---------------------------------------------------------------- logs

resource "aws_cloudwatch_log_group" "this" {
  name              = "/ecs/${var.name}"
  retention_in_days = 30
}

# ---------------------------------------------------------------- IAM

data "aws_iam_policy_document" "assume_ecs_tasks" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

# Execution role: used by ECS itself to pull the image, write logs and resolve
# the `secrets` into environment variables before the container starts.
resource "aws_iam_role" "execution" {
  name               = "${var.name}-exec"
  assume_role_policy = data.aws_iam_policy_document.assume_ecs_tasks.json
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "EcrAuth"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  dynamic "statement" {
    for_each = local.ecr_repository_arn == null ? [] : [local.ecr_repository_arn]
    content {
      sid       = "EcrPull"
      actions   = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
      resources = [statement.value]
    }
  }

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }

  dynamic "statement" {
    for_each = length(local.exec_secret_arns) == 0 ? [] : [local.exec_secret_arns]
    content {
      sid       = "InjectSecrets"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = statement.value
    }
  }

  # Secrets wrapped by a customer-managed key need kms:Decrypt at injection
  # time too; limited to the keys granted to the app, via Secrets Manager only.
  dynamic "statement" {
    for_each = length(local.exec_secret_arns) == 0 || length(var.grants.kms_decrypt) == 0 ? [] : [var.grants.kms_decrypt]
    content {
      sid       = "InjectSecretsKms"
      actions   = ["kms:Decrypt"]
      resources = statement.value
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${local.region}.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "ecs-execution"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

# Task role: the application's own AWS identity. Its policy holds exactly the
# statements granted in `grants`, nothing else (no policy at all when empty).
resource "aws_iam_role" "task" {
  name               = "${var.name}-task"
  assume_role_policy = data.aws_iam_policy_document.assume_ecs_tasks.json
}

locals {
  grant_statements = concat(
    length(var.grants.secrets_read) == 0 ? [] : [{
      Sid      = "SecretsRead"
      Effect   = "Allow"
      Action   = ["secretsmanager:GetSecretValue"]
      Resource = var.grants.secrets_read
    }],
    length(var.grants.kms_decrypt) == 0 ? [] : [{
      Sid      = "KmsDecrypt"
      Effect   = "Allow"
      Action   = ["kms:Decrypt"]
      Resource = var.grants.kms_decrypt
    }],
    length(var.grants.s3_read) == 0 ? [] : [{
      Sid      = "S3Read"
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:ListBucket"]
      Resource = flatten([for b in var.grants.s3_read : [b, "${b}/*"]])
    }],
    length(var.grants.s3_write) == 0 ? [] : [{
      Sid      = "S3Write"
      Effect   = "Allow"
      Action   = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
      Resource = [for b in var.grants.s3_write : "${b}/*"]
    }],
  )
}

resource "aws_iam_role_policy" "grants" {
  count = length(local.grant_statements) == 0 ? 0 : 1

  name   = "asgard-grants"
  role   = aws_iam_role.task.id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.grant_statements })
}

# ---------------------------------------------------------------- network

resource "aws_security_group" "alb" {
  name        = "${var.name}-alb"
  description = "Load balancer of ${var.name}"
  vpc_id      = var.vpc_id
}

resource "aws_security_group" "task" {
  name        = "${var.name}-task"
  description = "Tasks of ${var.name}: only the load balancer may connect"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "alb" {
  for_each = toset(local.https ? ["80", "443"] : ["80"])

  security_group_id = aws_security_group.alb.id
  description       = "HTTP${each.value == "443" ? "S" : ""} from ${var.internal ? "the VPC" : "anywhere"}"
  ip_protocol       = "tcp"
  from_port         = tonumber(each.value)
  to_port           = tonumber(each.value)
  cidr_ipv4         = var.internal ? data.aws_vpc.this.cidr_block : "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "alb_to_task" {
  security_group_id            = aws_security_group.alb.id
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
  referenced_security_group_id = aws_security_group.task.id
}

resource "aws_vpc_security_group_ingress_rule" "task_from_alb" {
  security_group_id            = aws_security_group.task.id
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
  referenced_security_group_id = aws_security_group.alb.id
}

resource "aws_vpc_security_group_egress_rule" "task_all" {
  security_group_id = aws_security_group.task.id
  description       = "Outbound (image pull, AWS APIs, databases)"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}

# ---------------------------------------------------------------- load balancer

resource "aws_lb" "this" {
  name                       = local.lb_name
  load_balancer_type         = "application"
  internal                   = var.internal
  subnets                    = var.subnet_ids
  security_groups            = [aws_security_group.alb.id]
  idle_timeout               = var.idle_timeout
  drop_invalid_header_fields = true
  enable_deletion_protection = false
}

resource "aws_lb_target_group" "this" {
  name                 = local.tg_name
  port                 = var.container_port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = 30

  health_check {
    path                = var.health_path
    matcher             = "200-299"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_lb_listener" "https" {
  count = local.https ? 1 : 0

  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this.arn
  }
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = local.https ? "redirect" : "forward"
    target_group_arn = local.https ? null : aws_lb_target_group.this.arn

    dynamic "redirect" {
      for_each = local.https ? [1] : []
      content {
        port        = "443"
        protocol    = "HTTPS"
        status_code = "HTTP_301"
      }
    }
  }
}

# ---------------------------------------------------------------- ECS

resource "aws_ecs_cluster" "this" {
  name = var.name
}

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  container_definitions = jsonencode([merge(
    {
      name         = local.container_name
      image        = var.image
      essential    = true
      portMappings = [{ containerPort = var.container_port, hostPort = var.container_port, protocol = "tcp" }]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.this.name
          awslogs-region        = local.region
          awslogs-stream-prefix = local.container_name
        }
      }
    },
    # Empty lists are left out: ECS drops them and they would show as a diff.
    length(var.env) == 0 ? {} : { environment = [for k in sort(keys(var.env)) : { name = k, value = var.env[k] }] },
    length(var.secrets) == 0 ? {} : { secrets = [for k in sort(keys(var.secrets)) : { name = k, valueFrom = var.secrets[k] }] },
  )])

  lifecycle {
    precondition {
      condition     = local.fargate_memory_ok[var.cpu]
      error_message = "memory ${var.memory} is not valid with cpu ${var.cpu} on Fargate (256: 512/1024/2048; 512: 1024-4096; 1024: 2048-8192; 2048: 4096-16384; 4096: 8192-30720, in 1024 steps; 8192: 16384-61440 in 4096 steps; 16384: 32768-122880 in 8192 steps)."
    }
  }
}

resource "aws_ecs_service" "this" {
  name             = var.name
  cluster          = aws_ecs_cluster.this.id
  task_definition  = aws_ecs_task_definition.this.arn
  desired_count    = var.desired_count
  launch_type      = "FARGATE"
  platform_version = "LATEST"

  health_check_grace_period_seconds  = 60
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  propagate_tags                     = "SERVICE"
  availability_zone_rebalancing      = "ENABLED"

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.task.id]
    assign_public_ip = var.assign_public_ip
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.this.arn
    container_name   = local.container_name
    container_port   = var.container_port
  }

  lifecycle {
    # Both are sent when the service is created; ignored afterwards because some
    # ECS implementations (moto) do not echo them back, which would otherwise
    # show as a change on every plan.
    ignore_changes = [availability_zone_rebalancing, health_check_grace_period_seconds]
  }

  # The target group must be attached to the load balancer (via a listener)
  # before a service can register into it; the execution role must be able to
  # pull and log before the first task starts.
  depends_on = [aws_lb_listener.http, aws_lb_listener.https, aws_iam_role_policy.execution]
}
