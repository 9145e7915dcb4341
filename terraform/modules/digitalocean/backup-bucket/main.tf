# A private, versioned Spaces bucket in the cluster's region for CloudNativePG backups (staging runs
# PostgreSQL in the cluster). The access key for it is created in the DigitalOcean console and stored
# only in the Kubernetes Secret pg-backup-s3 (never in Terraform state).

resource "digitalocean_spaces_bucket" "this" {
  name          = var.name
  region        = var.region
  acl           = "private"
  force_destroy = false

  versioning {
    enabled = true
  }

  lifecycle_rule {
    id      = "expire-old-versions"
    enabled = true
    noncurrent_version_expiration {
      days = var.noncurrent_days
    }
  }
}
