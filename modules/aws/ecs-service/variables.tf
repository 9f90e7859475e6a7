variable "image" {
  description = "Container image to run, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:sha-abc1234 (pin a tag or digest)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9._/:@-]{0,254}$", var.image))
    error_message = "image must be an image reference such as registry/repo:tag or registry/repo@sha256:..."
  }
}

variable "vpc_id" {
  description = "VPC to run in."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id must be a VPC id (vpc-...)."
  }
}

variable "subnet_ids" {
  description = "Subnets for the load balancer and the tasks, in at least two availability zones (public subnets for an internet-facing service unless assign_public_ip is false and the subnets have a NAT)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2 && length(distinct(var.subnet_ids)) == length(var.subnet_ids) && alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "subnet_ids must list at least two distinct subnet ids (subnet-...)."
  }
}

variable "cpu" {
  description = "Fargate task CPU units: 256, 512, 1024, 2048, 4096, 8192 or 16384 (as a string)."
  type        = string
  default     = "256"

  validation {
    condition     = contains(["256", "512", "1024", "2048", "4096", "8192", "16384"], var.cpu)
    error_message = "cpu must be one of 256, 512, 1024, 2048, 4096, 8192, 16384."
  }
}

variable "memory" {
  description = "Fargate task memory in MiB (as a string); must be valid for the chosen cpu (256: 512-2048, 512: 1024-4096, 1024: 2048-8192, 2048: 4096-16384, 4096: 8192-30720, 8192: 16384-61440, 16384: 32768-122880)."
  type        = string
  default     = "512"

  validation {
    condition     = can(regex("^[0-9]{3,6}$", var.memory))
    error_message = "memory must be a whole number of MiB, e.g. \"512\" or \"2048\"."
  }
}

variable "container_port" {
  description = "Port the container listens on."
  type        = number
  default     = 8080

  validation {
    condition     = var.container_port >= 1 && var.container_port <= 65535 && floor(var.container_port) == var.container_port
    error_message = "container_port must be a port number (1-65535)."
  }
}

variable "health_path" {
  description = "HTTP path the load balancer probes; a 2xx answer means healthy."
  type        = string
  default     = "/healthz"

  validation {
    condition     = can(regex("^/[A-Za-z0-9._~/?=&%-]{0,1000}$", var.health_path))
    error_message = "health_path must be an absolute URL path starting with /."
  }
}

variable "certificate_arn" {
  description = "ACM certificate for HTTPS. Set: HTTPS on 443 and HTTP on 80 redirects to it. Empty: plain HTTP on 80."
  type        = string
  default     = ""

  validation {
    condition     = var.certificate_arn == "" || can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+$", var.certificate_arn))
    error_message = "certificate_arn must be empty or an ACM certificate ARN."
  }
}

variable "idle_timeout" {
  description = "Load balancer idle timeout in seconds (raise it for long-lived streams such as SSE)."
  type        = number
  default     = 60

  validation {
    condition     = var.idle_timeout >= 1 && var.idle_timeout <= 4000 && floor(var.idle_timeout) == var.idle_timeout
    error_message = "idle_timeout must be a whole number of seconds between 1 and 4000."
  }
}

variable "desired_count" {
  description = "Number of tasks to run; 0 suspends the service (keeps the load balancer)."
  type        = number
  default     = 1

  validation {
    condition     = var.desired_count >= 0 && var.desired_count <= 20 && floor(var.desired_count) == var.desired_count
    error_message = "desired_count must be a whole number between 0 and 20."
  }
}

variable "env" {
  description = "Plain environment variables for the container (never put secret values here; use secrets)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.env) : can(regex("^[A-Za-z_][A-Za-z0-9_]{0,254}$", k))])
    error_message = "env names must be valid environment variable names ([A-Za-z_][A-Za-z0-9_]*)."
  }
}

variable "secrets" {
  description = "Environment variables filled from Secrets Manager at task start: name -> secret ARN (optionally with :json-key:: suffix). The execution role gets GetSecretValue on exactly these."
  type        = map(string)
  default     = {}

  validation {
    condition = alltrue([
      for k, v in var.secrets :
      can(regex("^[A-Za-z_][A-Za-z0-9_]{0,254}$", k)) && can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+(:[^:]*:[^:]*:[^:]*)?$", v))
    ])
    error_message = "secrets must map environment variable names to Secrets Manager secret ARNs."
  }
}

variable "grants" {
  description = "AWS permissions for the application (task role): secrets_read = Secrets Manager ARNs (GetSecretValue), kms_decrypt = KMS key ARNs (Decrypt), s3_read / s3_write = S3 bucket ARNs."
  type = object({
    secrets_read = optional(list(string), [])
    kms_decrypt  = optional(list(string), [])
    s3_read      = optional(list(string), [])
    s3_write     = optional(list(string), [])
  })
  default = {}

  validation {
    condition = alltrue(concat(
      [for a in var.grants.secrets_read : can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@*-]+$", a))],
      [for a in var.grants.kms_decrypt : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/[A-Za-z0-9/_-]+$", a))],
      [for a in concat(var.grants.s3_read, var.grants.s3_write) : can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,62}$", a))],
    ))
    error_message = "grants must hold ARNs: secrets_read Secrets Manager secrets, kms_decrypt KMS keys, s3_read/s3_write S3 buckets (arn:aws:s3:::bucket)."
  }
}

variable "internal" {
  description = "Internal load balancer (reachable only inside the VPC) instead of an internet-facing one."
  type        = bool
  default     = false
}

variable "assign_public_ip" {
  description = "Give tasks a public IP (needed to pull images in public subnets without a NAT gateway). Task ingress stays restricted to the load balancer."
  type        = bool
  default     = true
}
