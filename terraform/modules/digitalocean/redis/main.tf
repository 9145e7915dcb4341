# Managed Valkey (Redis protocol; DigitalOcean's successor of its managed Redis) in the cluster's
# VPC, reachable only from the Kubernetes cluster. Caches and rate limits only: nothing in it is
# the system of record.

resource "digitalocean_database_cluster" "this" {
  name                 = var.name
  engine               = "valkey"
  version              = var.valkey_version
  size                 = var.size
  region               = var.region
  node_count           = var.node_count
  private_network_uuid = var.vpc_id
  eviction_policy      = "allkeys_lru"
  tags                 = var.tags

  maintenance_window {
    day  = "sunday"
    hour = "02:30:00"
  }
}

resource "digitalocean_database_firewall" "this" {
  cluster_id = digitalocean_database_cluster.this.id

  rule {
    type  = "k8s"
    value = var.kubernetes_cluster_id
  }
}
