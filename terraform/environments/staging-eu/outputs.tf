output "cluster_id" {
  value = module.cluster.cluster_id
}

output "kubeconfig_command" {
  value = module.cluster.kubeconfig_command
}

output "vpc_cidr" {
  value = module.cluster.vpc_cidr
}

output "postgres_private_host" {
  value = try(module.postgres[0].private_host, null)
}

output "service_pool_uris" {
  value     = try(module.postgres[0].service_pool_uris, null)
  sensitive = true
}

output "service_direct_uris" {
  value     = try(module.postgres[0].service_direct_uris, null)
  sensitive = true
}

output "redis_url" {
  value     = try(module.redis[0].redis_url, null)
  sensitive = true
}

output "backup_destination_path" {
  value = try(module.backups[0].destination_path, null)
}
