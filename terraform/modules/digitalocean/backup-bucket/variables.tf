variable "name" {
  type = string
}

variable "region" {
  type = string
}

variable "noncurrent_days" {
  type    = number
  default = 30
}
