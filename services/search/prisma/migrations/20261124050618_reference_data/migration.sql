-- Reference lists. Adding a specialty or a country is a migration like this one.
INSERT INTO "specialties" ("code", "name") VALUES
  ('general-practice', 'General practice'),
  ('internal-medicine', 'Internal medicine'),
  ('cardiology', 'Cardiology'),
  ('dermatology', 'Dermatology'),
  ('psychiatry', 'Psychiatry'),
  ('pediatrics', 'Pediatrics'),
  ('gynecology', 'Gynecology'),
  ('psychology', 'Psychology'),
  ('nutrition', 'Nutrition and dietetics'),
  ('endocrinology', 'Endocrinology'),
  ('gastroenterology', 'Gastroenterology'),
  ('neurology', 'Neurology'),
  ('pulmonology', 'Pulmonology'),
  ('rheumatology', 'Rheumatology'),
  ('urology', 'Urology'),
  ('ophthalmology', 'Ophthalmology'),
  ('otorhinolaryngology', 'Ear, nose and throat'),
  ('orthopedics', 'Orthopedics'),
  ('allergology', 'Allergology and immunology'),
  ('physiotherapy', 'Physiotherapy'),
  ('sexology', 'Sexology'),
  ('travel-medicine', 'Travel medicine')
ON CONFLICT ("code") DO UPDATE SET "name" = EXCLUDED."name";

INSERT INTO "countries" ("code", "name", "currency") VALUES
  ('CH', 'Switzerland', 'CHF'),
  ('FR', 'France', 'EUR'),
  ('DE', 'Germany', 'EUR'),
  ('AT', 'Austria', 'EUR'),
  ('IT', 'Italy', 'EUR'),
  ('BE', 'Belgium', 'EUR'),
  ('LU', 'Luxembourg', 'EUR')
ON CONFLICT ("code") DO UPDATE SET "name" = EXCLUDED."name", "currency" = EXCLUDED."currency";
