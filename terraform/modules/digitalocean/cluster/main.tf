# DigitalOcean Kubernetes (DOKS) in its own VPC, with an autoscaled node pool. DOKS runs Cilium, which
# enforces the chart's NetworkPolicies. DigitalOcean has no zones inside a region: spread is per node.

locals {
  tags = concat(var.tags, ["cryptocare", var.name])
}

resource "digitalocean_vpc" "this" {
  name     = "${var.name}-vpc"
  region   = var.region
  ip_range = var.vpc_cidr
}

data "digitalocean_kubernetes_versions" "this" {
  version_prefix = var.kubernetes_version_prefix
}

resource "digitalocean_kubernetes_cluster" "this" {
  name          = var.name
  region        = var.region
  version       = data.digitalocean_kubernetes_versions.this.latest_version
  vpc_uuid      = digitalocean_vpc.this.id
  ha            = var.ha_control_plane
  auto_upgrade  = true
  surge_upgrade = true
  tags          = local.tags

  maintenance_policy {
    day        = "sunday"
    start_time = "03:00"
  }

  node_pool {
    name       = "${var.name}-default"
    size       = var.node_size
    auto_scale = true
    min_nodes  = var.min_nodes
    max_nodes  = var.max_nodes
    tags       = local.tags
    labels = {
      "cryptocare.io/pool" = "default"
    }
  }
}
