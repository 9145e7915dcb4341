# production-ch: EKS in AWS eu-central-2 (Zurich) with managed PostgreSQL (RDS) and Valkey (ElastiCache).

locals {
  name = "cryptocare-production-ch"
  tags = {
    project     = "cryptocare"
    environment = "production"
    region      = "ch"
    managed-by  = "terraform"
  }
}

module "network" {
  source             = "../../modules/aws/network"
  name               = local.name
  cidr               = var.vpc_cidr
  az_count           = 3
  single_nat_gateway = false
  tags               = local.tags
}

module "cluster" {
  source              = "../../modules/aws/cluster"
  name                = local.name
  kubernetes_version  = var.kubernetes_version
  private_subnet_ids  = module.network.private_subnet_ids
  api_allowed_cidrs   = var.api_allowed_cidrs
  node_instance_types = var.node_instance_types
  min_nodes           = var.min_nodes
  max_nodes           = var.max_nodes
  tags                = local.tags
}

module "postgres" {
  count         = var.managed_databases ? 1 : 0
  source        = "../../modules/aws/postgres"
  name          = local.name
  vpc_id        = module.network.vpc_id
  subnet_ids    = module.network.private_subnet_ids
  allowed_cidrs = [module.network.vpc_cidr]
  multi_az      = true
  read_replica  = true
  tags          = local.tags
}

module "redis" {
  count         = var.managed_databases ? 1 : 0
  source        = "../../modules/aws/redis"
  name          = local.name
  vpc_id        = module.network.vpc_id
  subnet_ids    = module.network.private_subnet_ids
  allowed_cidrs = [module.network.vpc_cidr]
  tags          = local.tags
}

module "backups" {
  count        = var.managed_databases ? 0 : 1
  source       = "../../modules/aws/backup-bucket"
  name         = "cryptocare-production-ch-pg-backups"
  cluster_name = module.cluster.cluster_name
  tags         = local.tags
}

# The External Secrets Operator reads this environment's secrets (cryptocare/production-ch/*) from Secrets
# Manager in this region through Pod Identity (docs/secrets.md).
module "secrets" {
  source       = "../../modules/aws/secrets-reader"
  name         = local.name
  cluster_name = module.cluster.cluster_name
  prefix       = "cryptocare/production-ch"
  tags         = local.tags
}
