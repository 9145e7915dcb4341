output "cluster_id" {
  value = digitalocean_database_cluster.this.id
}

output "private_host" {
  value = digitalocean_database_cluster.this.private_host
}

output "port" {
  value = digitalocean_database_cluster.this.port
}

output "database" {
  value = digitalocean_database_db.app.name
}

output "pool_names" {
  value = { for k, p in digitalocean_database_connection_pool.service : k => p.name }
}

# Connection strings carry passwords: sensitive, read with `terraform output -json` and put into the
# services' documents in the secret store (docs/secrets.md), never into a file.
output "service_pool_uris" {
  description = "Per service: the transaction-mode pool (DATABASE_URL)."
  value       = { for k, p in digitalocean_database_connection_pool.service : k => p.private_uri }
  sensitive   = true
}

output "service_direct_uris" {
  description = "Per service: a direct connection (DATABASE_DIRECT_URL, for migrations)."
  value = {
    for k, u in digitalocean_database_user.service :
    k => "postgresql://${u.name}:${u.password}@${digitalocean_database_cluster.this.private_host}:${digitalocean_database_cluster.this.port}/${digitalocean_database_db.app.name}?sslmode=require"
  }
  sensitive = true
}
