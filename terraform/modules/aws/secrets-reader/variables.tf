variable "name" {
  type = string
}

variable "cluster_name" {
  type = string
}

variable "prefix" {
  description = "The environment's secrets: <prefix>/<name> in Secrets Manager (k8s/platform secrets.remoteKeyPrefix)."
  type        = string
}

variable "namespace" {
  description = "Namespace of the External Secrets Operator (k8s/operators/install.sh)."
  type        = string
  default     = "external-secrets"
}

variable "service_account" {
  description = "The operator's controller service account (the chart names it after the release)."
  type        = string
  default     = "external-secrets"
}

variable "tags" {
  type    = map(string)
  default = {}
}
