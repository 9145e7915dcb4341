variable "name" {
  description = "Cluster name, e.g. cryptocare-production-eu."
  type        = string
}

variable "region" {
  description = "DigitalOcean region slug. DigitalOcean has no Swiss region: Swiss data residency needs the AWS modules (eu-central-2)."
  type        = string
  default     = "fra1"
  validation {
    condition     = contains(["ams3", "fra1", "lon1", "nyc1", "nyc3", "sfo2", "sfo3", "sgp1", "tor1", "blr1", "syd1", "atl1"], var.region)
    error_message = "region must be a DigitalOcean region slug (fra1 or ams3 for the EU)."
  }
}

variable "vpc_cidr" {
  description = "VPC range (must not overlap DOKS' pod and service ranges, 10.244.0.0/16 and 10.245.0.0/16)."
  type        = string
}

variable "kubernetes_version_prefix" {
  description = "Newest DOKS release with this prefix is used."
  type        = string
  default     = "1.33."
}

variable "ha_control_plane" {
  type    = bool
  default = true
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
  default = 6
}

variable "tags" {
  type    = list(string)
  default = []
}
