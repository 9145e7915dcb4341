# RDS PostgreSQL, Multi-AZ (synchronous standby in another zone), optionally a read replica for
# DATABASE_REPLICA_URL. The master password is generated and rotated by RDS in Secrets Manager
# (manage_master_user_password): no password in code or in state. Each service's role and schema are
# created once with deploy/sql/managed-postgres-bootstrap.sql.

resource "aws_db_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
  tags       = var.tags
}

resource "aws_security_group" "this" {
  name        = "${var.name}-postgres"
  description = "PostgreSQL from the cluster's VPC only"
  vpc_id      = var.vpc_id
  tags        = var.tags

  ingress {
    description = "PostgreSQL"
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
    cidr_blocks = var.allowed_cidrs
  }
}

resource "aws_db_parameter_group" "this" {
  name   = var.name
  family = "postgres${split(".", var.engine_version)[0]}"
  tags   = var.tags

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = "500"
  }
}

resource "aws_db_instance" "this" {
  identifier                   = var.name
  engine                       = "postgres"
  engine_version               = var.engine_version
  instance_class               = var.instance_class
  allocated_storage            = var.allocated_storage_gb
  max_allocated_storage        = var.max_allocated_storage_gb
  storage_type                 = "gp3"
  storage_encrypted            = true
  db_name                      = var.database
  username                     = var.admin_username
  manage_master_user_password  = true
  multi_az                     = var.multi_az
  db_subnet_group_name         = aws_db_subnet_group.this.name
  vpc_security_group_ids       = [aws_security_group.this.id]
  parameter_group_name         = aws_db_parameter_group.this.name
  publicly_accessible          = false
  backup_retention_period      = var.backup_retention_days
  backup_window                = "01:00-02:00"
  maintenance_window           = "sun:02:30-sun:03:30"
  copy_tags_to_snapshot        = true
  deletion_protection          = var.deletion_protection
  skip_final_snapshot          = false
  final_snapshot_identifier    = "${var.name}-final"
  auto_minor_version_upgrade   = true
  performance_insights_enabled = true
  tags                         = var.tags
}

resource "aws_db_instance" "replica" {
  count                        = var.read_replica ? 1 : 0
  identifier                   = "${var.name}-replica"
  replicate_source_db          = aws_db_instance.this.identifier
  instance_class               = var.instance_class
  storage_encrypted            = true
  vpc_security_group_ids       = [aws_security_group.this.id]
  parameter_group_name         = aws_db_parameter_group.this.name
  publicly_accessible          = false
  skip_final_snapshot          = true
  auto_minor_version_upgrade   = true
  performance_insights_enabled = true
  tags                         = var.tags
}
