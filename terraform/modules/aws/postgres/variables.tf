variable "name" {
  type = string
}

variable "vpc_id" {
  type = string
}

variable "subnet_ids" {
  type = list(string)
}

variable "allowed_cidrs" {
  description = "Who may connect (the cluster's VPC range)."
  type        = list(string)
}

variable "engine_version" {
  type    = string
  default = "18.4"
}

variable "instance_class" {
  type    = string
  default = "db.m6g.large"
}

variable "allocated_storage_gb" {
  type    = number
  default = 50
}

variable "max_allocated_storage_gb" {
  type    = number
  default = 500
}

variable "database" {
  type    = string
  default = "cryptocare"
}

variable "admin_username" {
  type    = string
  default = "cryptocare_admin"
}

variable "multi_az" {
  type    = bool
  default = true
}

variable "read_replica" {
  type    = bool
  default = true
}

variable "backup_retention_days" {
  type    = number
  default = 14
}

variable "deletion_protection" {
  type    = bool
  default = true
}

variable "tags" {
  type    = map(string)
  default = {}
}
