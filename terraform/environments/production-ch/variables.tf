variable "region" {
  type    = string
  default = "eu-central-2"
}

variable "vpc_cidr" {
  description = "Also in charts/cryptocare/values-production-ch.yaml (egress to the managed databases)."
  type        = string
  default     = "10.20.0.0/16"
}

variable "kubernetes_version" {
  type    = string
  default = "1.33"
}

variable "api_allowed_cidrs" {
  description = "Addresses allowed to reach the Kubernetes API (operators, CI). Set in a *.auto.tfvars kept out of git or with TF_VAR_api_allowed_cidrs."
  type        = list(string)
}

variable "node_instance_types" {
  type    = list(string)
  default = ["m6i.xlarge"]
}

variable "min_nodes" {
  type    = number
  default = 3
}

variable "max_nodes" {
  type    = number
  default = 12
}

variable "managed_databases" {
  description = "true: RDS PostgreSQL + ElastiCache Valkey (k8s/platform postgres.provider/redis.provider = external); false: PostgreSQL and Valkey in the cluster, with a backup bucket."
  type        = bool
  default     = true
}
