output "endpoint" {
  description = "Primary host:port (DATABASE_DIRECT_URL host)."
  value       = aws_db_instance.this.endpoint
}

output "address" {
  value = aws_db_instance.this.address
}

output "replica_address" {
  value = try(aws_db_instance.replica[0].address, null)
}

output "database" {
  value = aws_db_instance.this.db_name
}

output "master_user_secret_arn" {
  description = "Secrets Manager secret holding the master credentials (for the one-off bootstrap SQL)."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}
