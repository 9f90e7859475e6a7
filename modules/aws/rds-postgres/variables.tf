variable "engine_version" {
  description = "PostgreSQL version: a major (\"16\", AWS picks the current minor and keeps it patched) or major.minor (\"16.4\")."
  type        = string
  default     = "16"

  validation {
    condition     = can(regex("^1[2-9](\\.[0-9]+)?$", var.engine_version))
    error_message = "engine_version must be a PostgreSQL major 12-19, optionally with a minor (e.g. 16 or 16.4)."
  }
}

variable "instance_class" {
  description = "RDS instance class, e.g. db.t4g.micro, db.t4g.small, db.m7g.large."
  type        = string
  default     = "db.t4g.micro"

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.instance_class))
    error_message = "instance_class must look like db.<family>.<size>, e.g. db.t4g.micro."
  }
}

variable "allocated_storage" {
  description = "Storage in GiB (gp3, encrypted)."
  type        = number
  default     = 20

  validation {
    condition     = var.allocated_storage >= 20 && var.allocated_storage <= 65536 && floor(var.allocated_storage) == var.allocated_storage
    error_message = "allocated_storage must be a whole number of GiB between 20 and 65536."
  }
}

variable "skip_final_snapshot" {
  description = "Destroy without taking a final snapshot (the data is lost). Default false: a snapshot <name>-final-<suffix> is kept."
  type        = bool
  default     = false
}

variable "vpc_security_group_ids" {
  description = "Security groups to attach; empty = the VPC's default security group."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.vpc_security_group_ids : can(regex("^sg-[0-9a-f]+$", id))])
    error_message = "vpc_security_group_ids must be security group ids (sg-...)."
  }
}

variable "db_subnet_group_name" {
  description = "DB subnet group to place the instance in; empty = the default VPC."
  type        = string
  default     = ""
}
