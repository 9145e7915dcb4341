output "cluster_id" {
  value = digitalocean_kubernetes_cluster.this.id
}

output "cluster_name" {
  value = digitalocean_kubernetes_cluster.this.name
}

output "endpoint" {
  value = digitalocean_kubernetes_cluster.this.endpoint
}

output "vpc_id" {
  value = digitalocean_vpc.this.id
}

output "vpc_cidr" {
  value = digitalocean_vpc.this.ip_range
}

output "kubeconfig_command" {
  description = "Writes a kubeconfig entry (short-lived token) for this cluster."
  value       = "doctl kubernetes cluster kubeconfig save ${digitalocean_kubernetes_cluster.this.id}"
}
