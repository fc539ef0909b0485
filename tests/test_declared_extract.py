"""Reading declared schemas: CSVW, datapackage.json, JSON Schema, SQL DDL dialects and dbt schema.yml."""

import json
import os

import jsonschema
import pytest

from transforms.config import Config
from transforms.extract import extract_file
from transforms.extract.declared import declared_schema, schema_file_stem
from transforms.extract.sql_ddl import read_ddl

SCHEMAS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "schemas")


def _json(document) -> bytes:
    return json.dumps(document).encode()


def _keys(declared):
    return {(k["table"], tuple(k["columns"]), k["ref_table"], tuple(k["ref_columns"])) for k in declared["foreign_keys"]}


# ---------------------------------------------------------------- CSVW

CSVW = {
    "@context": ["http://www.w3.org/ns/csvw", {"@language": "en"}],
    "dc:title": "A wordlist",
    "tables": [
        {"url": "forms.csv", "tableSchema": {
            "columns": [{"name": "ID"}, {"name": "Language_ID"}, {"name": "Parameter_ID", "titles": "Concept_ID"},
                        {"name": "Audio_Files", "separator": " "}, {"name": "Extra", "virtual": True}],
            "primaryKey": ["ID"],
            "foreignKeys": [
                {"columnReference": ["Language_ID"], "reference": {"resource": "languages.csv", "columnReference": ["ID"]}},
                {"columnReference": "Parameter_ID", "reference": {"resource": "parameters.csv", "columnReference": "ID"}},
                {"columnReference": ["Language_ID"], "reference": {"resource": "languages.csv", "columnReference": ["ID"]}},
                {"columnReference": ["Parameter_ID"], "reference": {"schemaReference": "other.json", "columnReference": "ID"}},
            ]}},
        {"url": "languages.csv", "tableSchema": {"columns": [{"name": "ID"}, {"name": "Name"}], "primaryKey": "ID"}},
    ],
}


def test_csvw_tables_columns_titles_and_foreign_keys():
    declared, warning = declared_schema("any-name.json", "json", _json(CSVW))
    assert warning is None and declared["format"] == "csvw"
    forms, languages = declared["tables"]
    assert forms == {"name": "forms.csv", "path": "forms.csv", "columns": ["ID", "Language_ID", "Parameter_ID",
                                                                             "Audio_Files"],
                     "primary_key": ["ID"], "titles": {"Parameter_ID": ["Concept_ID"]}}
    assert languages["primary_key"] == ["ID"]
    # duplicates folded, a schemaReference is not a table
    assert _keys(declared) == {("forms.csv", ("Language_ID",), "languages.csv", ("ID",)),
                               ("forms.csv", ("Parameter_ID",), "parameters.csv", ("ID",))}
    assert "CSVW foreignKey Language_ID -> languages.csv ID" in [k["basis"] for k in declared["foreign_keys"]]


def test_csvw_single_table_and_base():
    document = {"@context": ["http://www.w3.org/ns/csvw", {"@base": "data/"}], "url": "t.csv",
                "tableSchema": {"columns": [{"titles": {"en": ["Code"]}}]}}
    declared, _ = declared_schema("t.csv-metadata.json", "json", _json(document))
    assert declared["tables"] == [{"name": "data/t.csv", "path": "data/t.csv", "columns": ["Code"], "primary_key": []}]


def test_json_without_a_csvw_context_is_not_csvw():
    document = dict(CSVW, **{"@context": "https://schema.org"})
    assert declared_schema("x.json", "json", _json(document)) == ({}, None)


# ---------------------------------------------------------------- data packages


def test_datapackage_resources_and_foreign_keys():
    package = {"name": "shop", "resources": [
        {"name": "orders", "path": "data/orders.csv", "schema": {
            "fields": [{"name": "id"}, {"name": "customer"}, {"name": "parent"}], "primaryKey": "id",
            "foreignKeys": [{"fields": "customer", "reference": {"resource": "customers", "fields": "id"}},
                            {"fields": ["parent"], "reference": {"resource": "", "fields": ["id"]}},
                            {"fields": "x", "reference": {"package": "http://other", "resource": "y", "fields": "z"}}]}},
        {"name": "customers", "path": "data/customers.csv", "schema": {"fields": [{"name": "id"}]}},
        {"name": "rates", "path": "https://example.org/rates.csv"},
        {"name": "parts", "path": ["data/p1.csv", "data/p2.csv"]},
    ]}
    declared, _ = declared_schema("datapackage.json", "json", _json(package))
    assert declared["format"] == "datapackage"
    assert [(t["name"], t["path"]) for t in declared["tables"]] == [
        ("orders", "data/orders.csv"), ("customers", "data/customers.csv"), ("rates", "https://example.org/rates.csv"),
        ("parts#data/p1.csv", "data/p1.csv"), ("parts#data/p2.csv", "data/p2.csv")]
    assert declared["tables"][0]["columns"] == ["id", "customer", "parent"]
    assert _keys(declared) == {("orders", ("customer",), "customers", ("id",)), ("orders", ("parent",), "orders", ("id",))}


# ---------------------------------------------------------------- JSON Schema


def test_json_schema_describes_the_table_it_is_named_after():
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "Order",
              "type": "array", "items": {"type": "object", "properties": {"order_id": {}, "total": {}}}}
    declared, _ = declared_schema("orders.schema.json", "json", _json(schema))
    assert declared == {"format": "json_schema", "foreign_keys": [],
                        "tables": [{"name": "orders", "path": None, "columns": ["order_id", "total"], "primary_key": []}]}
    declared, _ = declared_schema("schema.json", "json", _json(schema))
    assert declared["tables"][0]["name"] == "Order"


def test_schema_file_stems():
    assert [schema_file_stem(n) for n in ("orders.schema.json", "order_schema.json", "schema.json", "myschema.json")] \
        == ["orders", "order", "", "myschema"]


def test_geojson_properties_are_not_a_schema():
    feature = {"type": "Feature", "properties": {"name": "x"}, "geometry": None}
    assert declared_schema("f.json", "json", _json(feature)) == ({}, None)


# ---------------------------------------------------------------- SQL DDL

POSTGRES = """
-- pg_dump output
CREATE TABLE public.departments (department_id integer NOT NULL, name text DEFAULT 'a;b', manager_id integer);
CREATE TABLE public.employees (
    employee_id integer NOT NULL,
    department_id integer REFERENCES public.departments(department_id) ON DELETE CASCADE
);
CREATE FUNCTION f() RETURNS void AS $body$ CREATE TABLE hidden (a int); $body$ LANGUAGE sql;
INSERT INTO public.departments VALUES (1, 'CREATE TABLE nope (x int REFERENCES y)', 2);
ALTER TABLE ONLY public.departments ADD CONSTRAINT departments_pkey PRIMARY KEY (department_id);
ALTER TABLE ONLY public.employees ADD CONSTRAINT employees_pkey PRIMARY KEY (employee_id);
ALTER TABLE ONLY public.departments
    ADD CONSTRAINT dept_mgr_fk FOREIGN KEY (manager_id) REFERENCES public.employees(employee_id);
"""
MYSQL = """
/*!40101 SET NAMES utf8 */;
CREATE TABLE `employees` (`employee_id` int NOT NULL AUTO_INCREMENT, `key` varchar(10), PRIMARY KEY (`employee_id`));
# CREATE TABLE commented (x int);
CREATE TABLE IF NOT EXISTS `departments` (
  `department_id` int NOT NULL,
  `manager_id` int DEFAULT NULL,
  PRIMARY KEY (`department_id`),
  KEY `fk_mgr_idx` (`manager_id`),
  UNIQUE KEY `uq` (`department_id`, `manager_id`),
  CONSTRAINT `dept_mgr_fk` FOREIGN KEY (`manager_id`) REFERENCES `employees` (`employee_id`) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
ALTER TABLE `employees` ADD COLUMN `department_id` int, ADD CONSTRAINT `emp_dept_fk`
    FOREIGN KEY (`department_id`) REFERENCES `departments` (`department_id`);
"""
SQLITE = """
CREATE TABLE IF NOT EXISTS "departments" (department_id INTEGER PRIMARY KEY AUTOINCREMENT, manager_id INTEGER,
    FOREIGN KEY (manager_id) REFERENCES "employees" ("employee_id") ON DELETE NO ACTION);
CREATE TABLE employees (employee_id INTEGER PRIMARY KEY, department_id REFERENCES departments);
"""
ORACLE = """
CREATE TABLE departments ( department_id NUMBER(4), manager_id NUMBER(6) ) ;
CREATE TABLE employees ( employee_id NUMBER(6), department_id NUMBER(4) CONSTRAINT emp_dept_fk REFERENCES departments );
ALTER TABLE departments ADD ( CONSTRAINT dept_id_pk PRIMARY KEY (department_id) ) ;
ALTER TABLE employees ADD ( CONSTRAINT emp_emp_id_pk PRIMARY KEY (employee_id) ) ;
ALTER TABLE departments ADD ( CONSTRAINT dept_mgr_fk FOREIGN KEY (manager_id) REFERENCES employees (employee_id) ) ;
"""
SQLSERVER = """
CREATE TABLE [dbo].[departments] ( [department_id] INT NOT NULL, [manager_id] INT NULL,
    CONSTRAINT [PK_departments] PRIMARY KEY CLUSTERED ([department_id]) )
GO
CREATE TABLE [dbo].[employees] ( [employee_id] INT NOT NULL, [department_id] INT NULL,
    CONSTRAINT [PK_employees] PRIMARY KEY CLUSTERED ([employee_id]) )
GO
ALTER TABLE [dbo].[employees] WITH CHECK ADD CONSTRAINT [FK_emp_dept] FOREIGN KEY([department_id])
    REFERENCES [dbo].[departments] ([department_id])
GO
ALTER TABLE [dbo].[employees] CHECK CONSTRAINT [FK_emp_dept]
GO
ALTER TABLE [dbo].[departments] ADD CONSTRAINT [FK_dept_mgr] FOREIGN KEY ([manager_id])
    REFERENCES [dbo].[employees] ([employee_id])
GO
"""
BOTH_KEYS = {("employees", ("department_id",), "departments", ("department_id",)),
             ("departments", ("manager_id",), "employees", ("employee_id",))}


@pytest.mark.parametrize("script", [POSTGRES, MYSQL, SQLITE, ORACLE, SQLSERVER],
                         ids=["postgresql", "mysql", "sqlite", "oracle", "sqlserver"])
def test_sql_dialects_declare_the_same_tables_and_keys(script):
    declared = read_ddl(script)
    assert {t["name"] for t in declared["tables"]} == {"departments", "employees"}
    assert _keys(declared) == BOTH_KEYS
    tables = {t["name"]: t for t in declared["tables"]}
    assert tables["departments"]["primary_key"] == ["department_id"]
    assert tables["employees"]["primary_key"] == ["employee_id"]
    assert "department_id" in tables["employees"]["columns"]


def test_sql_references_without_columns_mean_the_primary_key():
    declared = read_ddl(ORACLE)
    basis = {k["table"]: k["basis"] for k in declared["foreign_keys"]}
    assert basis["employees"] == "FOREIGN KEY (department_id) REFERENCES departments [primary key department_id]"
    assert basis["departments"] == "FOREIGN KEY (manager_id) REFERENCES employees (employee_id)"


def test_sql_strings_comments_and_function_bodies_declare_nothing():
    declared = read_ddl(POSTGRES + MYSQL)
    assert {t["name"] for t in declared["tables"]} == {"departments", "employees"}
    assert "key" in {c for t in declared["tables"] for c in t["columns"]}  # a column named key is a column


def test_sql_without_ddl_is_an_ordinary_text_node():
    record = extract_file("/drive/queries.sql", b"SELECT * FROM orders WHERE total > 10;\n", Config())
    assert record.file_type == "sql" and record.declared == {} and "SELECT" in record.text


def test_sql_file_declares_on_its_record():
    record = extract_file("/drive/hr/schema.sql", SQLSERVER.encode(), Config())
    assert record.declared["format"] == "sql_ddl" and _keys(record.declared) == BOTH_KEYS
    assert record.structure["declared"] == {"format": "sql_ddl", "tables": ["departments", "employees"],
                                            "foreign_keys": 2}
    assert not record.is_data and not record.is_narrative


# ---------------------------------------------------------------- dbt

DBT = """
version: 2
models:
  - name: orders
    columns:
      - name: order_id
        tests: [unique, not_null]
      - name: customer_id
        tests:
          - not_null
          - relationships:
              to: ref('customers')
              field: customer_id
      - name: store_id
        data_tests:
          - relationships:
              arguments:
                to: source('shop', 'stores')
                field: id
  - name: customers
    constraints:
      - type: primary_key
        columns: [customer_id]
    columns:
      - name: customer_id
      - name: region_id
        constraints:
          - type: foreign_key
            expression: "regions (region_id)"
sources:
  - name: shop
    tables:
      - name: stores
        columns:
          - name: id
"""


def test_dbt_models_sources_and_relationships():
    declared, warning = declared_schema("schema.yml", "yml", DBT.encode())
    assert warning is None and declared["format"] == "dbt"
    tables = {t["name"]: t for t in declared["tables"]}
    assert set(tables) == {"orders", "customers", "stores"}
    assert tables["orders"]["primary_key"] == ["order_id"] and tables["customers"]["primary_key"] == ["customer_id"]
    assert _keys(declared) == {("orders", ("customer_id",), "customers", ("customer_id",)),
                               ("orders", ("store_id",), "stores", ("id",)),
                               ("customers", ("region_id",), "regions", ("region_id",))}
    assert "dbt relationships test orders.customer_id -> ref('customers') customer_id" in [
        k["basis"] for k in declared["foreign_keys"]]


def test_yaml_that_is_not_a_dbt_schema_is_an_ordinary_node():
    record = extract_file("/drive/ci.yaml", b"name: build\non: [push]\njobs: {}\n", Config())
    assert record.file_type == "yaml" and record.declared == {} and not record.warnings


def test_invalid_yaml_is_a_node_with_a_warning():
    record = extract_file("/drive/broken.yml", b"version: 2\nmodels: [unclosed\n", Config())
    assert record.declared == {}
    assert any(w.startswith("declared schema not read") for w in record.warnings)


def test_yaml_aliases_cannot_make_the_walk_unbounded():
    # 2,000 aliases of one model whose 2,000 columns are one anchor: 4 million columns if expanded.
    columns = ", ".join(f"{{name: c{i}}}" for i in range(2000))
    text = "\n".join(["version: 2", f"cols: &cols [{columns}]", "m: &m {name: orders, columns: *cols}",
                      "models: [" + ", ".join(["*m"] * 2000) + "]"])
    declared, _ = declared_schema("schema.yml", "yml", text.encode())
    assert 0 < sum(len(t["columns"]) for t in declared["tables"]) <= 200_000


# ---------------------------------------------------------------- through extract_file


def test_metadata_json_is_schema_not_records_and_its_node_is_valid():
    record = extract_file("/drive/ds/cldf/Wordlist-metadata.json", _json(CSVW), Config())
    assert record.declared["format"] == "csvw"
    assert record.tables == [] and record.structure["columns"] == []  # its arrays are not data tables
    assert record.structure["declared"] == {"format": "csvw", "tables": ["forms.csv", "languages.csv"],
                                            "foreign_keys": 2}
    with open(os.path.join(SCHEMAS, "node.schema.json")) as handle:
        jsonschema.validate(record.to_node(), json.load(handle))


def test_declared_names_are_redacted_like_column_names():
    document = {"@context": "http://www.w3.org/ns/csvw", "url": "t.csv",
                "tableSchema": {"columns": [{"name": "jane.doe@example.com"}]}}
    record = extract_file("/drive/t.csv-metadata.json", _json(document), Config())
    assert "jane.doe@example.com" not in json.dumps(record.declared)
