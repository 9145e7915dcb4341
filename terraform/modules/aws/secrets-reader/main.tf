# Read access to the environment's secrets in AWS Secrets Manager for the External Secrets Operator
# (docs/secrets.md), through EKS Pod Identity: the operator's service account assumes this role, no
# access key anywhere. Only the secrets under <prefix>/ (e.g. cryptocare/staging-ch/), read-only.
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  secrets_arn = "arn:aws:secretsmanager:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:secret:${var.prefix}/*"
}

resource "aws_iam_role" "reader" {
  name = "${var.name}-secrets-reader"
  tags = var.tags
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "pods.eks.amazonaws.com" }
      Action    = ["sts:AssumeRole", "sts:TagSession"]
    }]
  })
}

resource "aws_iam_role_policy" "reader" {
  name = "read-environment-secrets"
  role = aws_iam_role.reader.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
      Resource = local.secrets_arn
    }]
  })
}

resource "aws_eks_pod_identity_association" "reader" {
  cluster_name    = var.cluster_name
  namespace       = var.namespace
  service_account = var.service_account
  role_arn        = aws_iam_role.reader.arn
}
