# Remote state in a private Spaces bucket in the same region (S3-compatible backend). Credentials:
# AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY set to a Spaces key. Spaces offers no lock: run
# terraform for this environment from one place at a time (CI job with a concurrency group).
terraform {
  backend "s3" {
    bucket                      = "cryptocare-terraform-state-eu"
    key                         = "production-eu/terraform.tfstate"
    region                      = "us-east-1"
    endpoints                   = { s3 = "https://fra1.digitaloceanspaces.com" }
    encrypt                     = false
    skip_credentials_validation = true
    skip_requesting_account_id  = true
    skip_metadata_api_check     = true
    skip_region_validation      = true
    skip_s3_checksum            = true
  }
}
