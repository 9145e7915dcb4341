# production-eu: DigitalOcean Kubernetes in fra1 (Frankfurt) with managed PostgreSQL (with transaction-mode pools) and managed Valkey.
# DigitalOcean has no Swiss region: the CH environments run on AWS eu-central-2.

locals {
  name = "cryptocare-production-eu"
  tags = ["cryptocare", "production", "region-eu"]
}

module "cluster" {
  source                    = "../../modules/digitalocean/cluster"
  name                      = local.name
  region                    = var.region
  vpc_cidr                  = var.vpc_cidr
  kubernetes_version_prefix = var.kubernetes_version_prefix
  ha_control_plane          = true
  node_size                 = var.node_size
  min_nodes                 = var.min_nodes
  max_nodes                 = var.max_nodes
  tags                      = local.tags
}

module "postgres" {
  count                 = var.managed_databases ? 1 : 0
  source                = "../../modules/digitalocean/postgres"
  name                  = "${local.name}-pg"
  region                = var.region
  vpc_id                = module.cluster.vpc_id
  kubernetes_cluster_id = module.cluster.cluster_id
  node_count            = 2
  tags                  = local.tags
}

module "redis" {
  count                 = var.managed_databases ? 1 : 0
  source                = "../../modules/digitalocean/redis"
  name                  = "${local.name}-valkey"
  region                = var.region
  vpc_id                = module.cluster.vpc_id
  kubernetes_cluster_id = module.cluster.cluster_id
  tags                  = local.tags
}

module "backups" {
  count  = var.managed_databases ? 0 : 1
  source = "../../modules/digitalocean/backup-bucket"
  name   = "cryptocare-production-eu-pg-backups"
  region = var.region
}
