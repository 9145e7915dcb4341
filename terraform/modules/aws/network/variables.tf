variable "name" {
  description = "Also the EKS cluster name (subnet discovery tags)."
  type        = string
}

variable "cidr" {
  type = string
}

variable "az_count" {
  type    = number
  default = 3
  validation {
    condition     = var.az_count >= 2 && var.az_count <= 3
    error_message = "az_count is 2 or 3."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all zones (cheaper, staging) instead of one per zone."
  type        = bool
  default     = false
}

variable "tags" {
  type    = map(string)
  default = {}
}
