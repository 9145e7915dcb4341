terraform {
  required_version = ">= 1.10"
  required_providers {
    digitalocean = {
      source  = "digitalocean/digitalocean"
      version = ">= 2.50, < 3.0"
    }
  }
}

# The API token comes from DIGITALOCEAN_TOKEN, the Spaces keys from SPACES_ACCESS_KEY_ID and
# SPACES_SECRET_ACCESS_KEY: none in code.
provider "digitalocean" {}
