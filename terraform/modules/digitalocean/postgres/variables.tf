variable "name" {
  type = string
}

variable "region" {
  type = string
}

variable "vpc_id" {
  type = string
}

variable "kubernetes_cluster_id" {
  description = "Only this cluster may connect."
  type        = string
}

variable "postgres_version" {
  type    = string
  default = "18"
}

variable "size" {
  type    = string
  default = "db-s-2vcpu-4gb"
}

variable "node_count" {
  description = "1 primary + standbys (2 = primary and one standby)."
  type        = number
  default     = 2
}

variable "storage_size_mib" {
  type    = number
  default = 61440
}

variable "database" {
  type    = string
  default = "cryptocare"
}

variable "services" {
  description = "One user, one schema and one transaction-mode pool per service."
  type        = list(string)
  default     = ["identity", "search", "appointment", "payment", "video"]
}

variable "pool_size" {
  type    = number
  default = 20
}

variable "tags" {
  type    = list(string)
  default = []
}
