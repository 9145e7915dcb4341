output "bucket" {
  value = aws_s3_bucket.this.bucket
}

output "destination_path" {
  description = "postgres.backup.destinationPath for k8s/platform."
  value       = "s3://${aws_s3_bucket.this.bucket}/cryptocare-pg"
}
