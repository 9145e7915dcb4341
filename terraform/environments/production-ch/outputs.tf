output "cluster_name" {
  value = module.cluster.cluster_name
}

output "kubeconfig_command" {
  value = module.cluster.kubeconfig_command
}

output "vpc_cidr" {
  value = module.network.vpc_cidr
}

output "postgres_endpoint" {
  value = try(module.postgres[0].endpoint, null)
}

output "postgres_replica_address" {
  value = try(module.postgres[0].replica_address, null)
}

output "postgres_master_secret_arn" {
  value = try(module.postgres[0].master_user_secret_arn, null)
}

output "redis_url" {
  value     = try(module.redis[0].redis_url, null)
  sensitive = true
}

output "backup_destination_path" {
  value = try(module.backups[0].destination_path, null)
}

output "secrets_reader_role_arn" {
  value = module.secrets.role_arn
}
