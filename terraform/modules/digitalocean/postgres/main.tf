# Managed PostgreSQL (a primary and a standby node) in the cluster's VPC, reachable only from the
# Kubernetes cluster. One database, one user per service and, per service, a PgBouncer connection
# pool in transaction mode (the plan's pooling). Each service's schema and grants are created once
# with deploy/sql/managed-postgres-bootstrap.sql.

resource "digitalocean_database_cluster" "this" {
  name                 = var.name
  engine               = "pg"
  version              = var.postgres_version
  size                 = var.size
  region               = var.region
  node_count           = var.node_count
  private_network_uuid = var.vpc_id
  storage_size_mib     = var.storage_size_mib
  tags                 = var.tags

  maintenance_window {
    day  = "sunday"
    hour = "02:00:00"
  }
}

resource "digitalocean_database_db" "app" {
  cluster_id = digitalocean_database_cluster.this.id
  name       = var.database
}

resource "digitalocean_database_user" "service" {
  for_each   = toset(var.services)
  cluster_id = digitalocean_database_cluster.this.id
  name       = each.key
}

resource "digitalocean_database_connection_pool" "service" {
  for_each   = toset(var.services)
  cluster_id = digitalocean_database_cluster.this.id
  name       = "${each.key}-pool"
  mode       = "transaction"
  size       = var.pool_size
  db_name    = digitalocean_database_db.app.name
  user       = digitalocean_database_user.service[each.key].name
}

resource "digitalocean_database_firewall" "this" {
  cluster_id = digitalocean_database_cluster.this.id

  rule {
    type  = "k8s"
    value = var.kubernetes_cluster_id
  }
}
