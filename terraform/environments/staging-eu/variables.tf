variable "region" {
  type    = string
  default = "fra1"
}

variable "vpc_cidr" {
  description = "Also in charts/cryptocare/values-staging-eu.yaml (egress to the managed databases)."
  type        = string
  default     = "10.130.0.0/16"
}

variable "kubernetes_version_prefix" {
  type    = string
  default = "1.33."
}

variable "node_size" {
  type    = string
  default = "s-4vcpu-8gb"
}

variable "min_nodes" {
  type    = number
  default = 3
}

variable "max_nodes" {
  type    = number
  default = 5
}

variable "managed_databases" {
  description = "true: managed PostgreSQL + Valkey (k8s/platform postgres.provider/redis.provider = external); false: PostgreSQL and Valkey in the cluster, with a backup bucket."
  type        = bool
  default     = false
}
