output "bucket" {
  value = digitalocean_spaces_bucket.this.name
}

output "endpoint" {
  value = "https://${digitalocean_spaces_bucket.this.region}.digitaloceanspaces.com"
}

output "destination_path" {
  description = "postgres.backup.destinationPath for k8s/platform."
  value       = "s3://${digitalocean_spaces_bucket.this.name}/cryptocare-pg"
}
