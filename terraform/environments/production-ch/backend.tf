# Remote state in S3 (Zurich), encrypted, with S3-native locking (Terraform >= 1.10).
# The bucket is created once by hand (versioning on, public access blocked): see deploy/README-deployment.md.
terraform {
  backend "s3" {
    bucket       = "cryptocare-terraform-state-ch"
    key          = "production-ch/terraform.tfstate"
    region       = "eu-central-2"
    encrypt      = true
    use_lockfile = true
  }
}
