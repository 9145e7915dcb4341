output "role_arn" {
  value = aws_iam_role.reader.arn
}

output "secrets_arn_pattern" {
  description = "What the role may read."
  value       = local.secrets_arn
}
