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
  type = string
}

variable "valkey_version" {
  type    = string
  default = "8"
}

variable "size" {
  type    = string
  default = "db-s-1vcpu-2gb"
}

variable "node_count" {
  type    = number
  default = 2
}

variable "tags" {
  type    = list(string)
  default = []
}
