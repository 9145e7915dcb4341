output "private_host" {
  value = digitalocean_database_cluster.this.private_host
}

output "port" {
  value = digitalocean_database_cluster.this.port
}

output "redis_url" {
  description = "REDIS_URL (rediss://, TLS) for the services' Secrets."
  value       = digitalocean_database_cluster.this.private_uri
  sensitive   = true
}
