variable "name" {
  type = string
}

variable "cluster_name" {
  type = string
}

variable "namespace" {
  description = "Namespace of the CloudNativePG cluster."
  type        = string
  default     = "cryptocare-data"
}

variable "service_account" {
  description = "CloudNativePG names the instances' service account after the Cluster."
  type        = string
  default     = "cryptocare-pg"
}

variable "noncurrent_days" {
  type    = number
  default = 30
}

variable "tags" {
  type    = map(string)
  default = {}
}
