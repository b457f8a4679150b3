//! The fields of Parquet's metadata (parquet.thrift) that polars reads, with their types.
//!
//! polars reads each of these fields by its id as the type given here, whatever type the file
//! declares for it, while an unknown field is skipped by its declared type. A file declaring
//! another type for a known field is therefore read one way by the checks and another by polars:
//! the checks would measure values polars never sees. Such a file is refused instead.

/// A value's type in Parquet's definition.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    Bool,
    Byte,
    I16,
    /// polars keeps the low 32 bits of a longer varint.
    I32,
    I64,
    Binary,
    List(&'static Shape),
    Struct(&'static [Field]),
}

/// One field of a structure; `name` is the one a report shows.
#[derive(Debug)]
pub struct Field {
    pub id: i16,
    pub name: &'static str,
    pub shape: Shape,
}

const fn field(id: i16, name: &'static str, shape: Shape) -> Field {
    Field { id, name, shape }
}

use Shape::{Binary, Bool, Byte, List, Struct, I16, I32, I64};

/// polars reads union members holding empty structures by id, and skips what they hold.
const EMPTY: Shape = Struct(&[]);

pub const FILE_METADATA: &[Field] = &[
    field(1, "FileMetaData.version", I32),
    field(2, "FileMetaData.schema", List(&Struct(SCHEMA_ELEMENT))),
    field(3, "FileMetaData.num_rows", I64),
    field(4, "FileMetaData.row_groups", List(&Struct(ROW_GROUP))),
    field(
        5,
        "FileMetaData.key_value_metadata",
        List(&Struct(KEY_VALUE)),
    ),
    field(6, "FileMetaData.created_by", Binary),
    field(7, "FileMetaData.column_orders", List(&Struct(COLUMN_ORDER))),
];

const SCHEMA_ELEMENT: &[Field] = &[
    field(1, "SchemaElement.type", I32),
    field(2, "SchemaElement.type_length", I32),
    field(3, "SchemaElement.repetition_type", I32),
    field(4, "SchemaElement.name", Binary),
    field(5, "SchemaElement.num_children", I32),
    field(6, "SchemaElement.converted_type", I32),
    field(7, "SchemaElement.scale", I32),
    field(8, "SchemaElement.precision", I32),
    field(9, "SchemaElement.field_id", I32),
    field(10, "SchemaElement.logicalType", Struct(LOGICAL_TYPE)),
];

const LOGICAL_TYPE: &[Field] = &[
    field(1, "LogicalType.STRING", EMPTY),
    field(2, "LogicalType.MAP", EMPTY),
    field(3, "LogicalType.LIST", EMPTY),
    field(4, "LogicalType.ENUM", EMPTY),
    field(5, "LogicalType.DECIMAL", Struct(DECIMAL_TYPE)),
    field(6, "LogicalType.DATE", EMPTY),
    field(7, "LogicalType.TIME", Struct(TIME_TYPE)),
    field(8, "LogicalType.TIMESTAMP", Struct(TIME_TYPE)),
    field(10, "LogicalType.INTEGER", Struct(INT_TYPE)),
    field(11, "LogicalType.UNKNOWN", EMPTY),
    field(12, "LogicalType.JSON", EMPTY),
    field(13, "LogicalType.BSON", EMPTY),
    field(14, "LogicalType.UUID", EMPTY),
    field(15, "LogicalType.FLOAT16", EMPTY),
];

const DECIMAL_TYPE: &[Field] = &[
    field(1, "DecimalType.scale", I32),
    field(2, "DecimalType.precision", I32),
];

/// TimeType and TimestampType have the same fields.
const TIME_TYPE: &[Field] = &[
    field(1, "TimeType.isAdjustedToUTC", Bool),
    field(2, "TimeType.unit", Struct(TIME_UNIT)),
];

const TIME_UNIT: &[Field] = &[
    field(1, "TimeUnit.MILLIS", EMPTY),
    field(2, "TimeUnit.MICROS", EMPTY),
    field(3, "TimeUnit.NANOS", EMPTY),
];

const INT_TYPE: &[Field] = &[
    field(1, "IntType.bitWidth", Byte),
    field(2, "IntType.isSigned", Bool),
];

const KEY_VALUE: &[Field] = &[
    field(1, "KeyValue.key", Binary),
    field(2, "KeyValue.value", Binary),
];

const COLUMN_ORDER: &[Field] = &[
    field(1, "ColumnOrder.TYPE_ORDER", EMPTY),
    field(2, "ColumnOrder.IEEE_754_TOTAL_ORDER", EMPTY),
];

const ROW_GROUP: &[Field] = &[
    field(1, "RowGroup.columns", List(&Struct(COLUMN_CHUNK))),
    field(2, "RowGroup.total_byte_size", I64),
    field(3, "RowGroup.num_rows", I64),
    field(4, "RowGroup.sorting_columns", List(&Struct(SORTING_COLUMN))),
    field(5, "RowGroup.file_offset", I64),
    field(6, "RowGroup.total_compressed_size", I64),
    field(7, "RowGroup.ordinal", I16),
];

const SORTING_COLUMN: &[Field] = &[
    field(1, "SortingColumn.column_idx", I32),
    field(2, "SortingColumn.descending", Bool),
    field(3, "SortingColumn.nulls_first", Bool),
];

const COLUMN_CHUNK: &[Field] = &[
    field(1, "ColumnChunk.file_path", Binary),
    field(2, "ColumnChunk.file_offset", I64),
    field(3, "ColumnChunk.meta_data", Struct(COLUMN_META_DATA)),
    field(4, "ColumnChunk.offset_index_offset", I64),
    field(5, "ColumnChunk.offset_index_length", I32),
    field(6, "ColumnChunk.column_index_offset", I64),
    field(7, "ColumnChunk.column_index_length", I32),
];

const COLUMN_META_DATA: &[Field] = &[
    field(1, "ColumnMetaData.type", I32),
    field(2, "ColumnMetaData.encodings", List(&I32)),
    field(3, "ColumnMetaData.path_in_schema", List(&Binary)),
    field(4, "ColumnMetaData.codec", I32),
    field(5, "ColumnMetaData.num_values", I64),
    field(6, "ColumnMetaData.total_uncompressed_size", I64),
    field(7, "ColumnMetaData.total_compressed_size", I64),
    field(9, "ColumnMetaData.data_page_offset", I64),
    field(10, "ColumnMetaData.index_page_offset", I64),
    field(11, "ColumnMetaData.dictionary_page_offset", I64),
    field(12, "ColumnMetaData.statistics", Struct(STATISTICS)),
    field(14, "ColumnMetaData.bloom_filter_offset", I64),
    field(15, "ColumnMetaData.bloom_filter_length", I32),
];

const STATISTICS: &[Field] = &[
    field(1, "Statistics.max", Binary),
    field(2, "Statistics.min", Binary),
    field(3, "Statistics.null_count", I64),
    field(4, "Statistics.distinct_count", I64),
    field(5, "Statistics.max_value", Binary),
    field(6, "Statistics.min_value", Binary),
    field(7, "Statistics.is_max_value_exact", Bool),
    field(8, "Statistics.is_min_value_exact", Bool),
];

pub const PAGE_HEADER: &[Field] = &[
    field(1, "PageHeader.type", I32),
    field(2, "PageHeader.uncompressed_page_size", I32),
    field(3, "PageHeader.compressed_page_size", I32),
    field(4, "PageHeader.crc", I32),
    field(5, "PageHeader.data_page_header", Struct(DATA_PAGE_HEADER)),
    field(6, "PageHeader.index_page_header", EMPTY),
    field(
        7,
        "PageHeader.dictionary_page_header",
        Struct(DICTIONARY_PAGE_HEADER),
    ),
    field(
        8,
        "PageHeader.data_page_header_v2",
        Struct(DATA_PAGE_HEADER_V2),
    ),
];

const DATA_PAGE_HEADER: &[Field] = &[
    field(1, "DataPageHeader.num_values", I32),
    field(2, "DataPageHeader.encoding", I32),
    field(3, "DataPageHeader.definition_level_encoding", I32),
    field(4, "DataPageHeader.repetition_level_encoding", I32),
    field(5, "DataPageHeader.statistics", Struct(STATISTICS)),
];

const DICTIONARY_PAGE_HEADER: &[Field] = &[
    field(1, "DictionaryPageHeader.num_values", I32),
    field(2, "DictionaryPageHeader.encoding", I32),
    field(3, "DictionaryPageHeader.is_sorted", Bool),
];

const DATA_PAGE_HEADER_V2: &[Field] = &[
    field(1, "DataPageHeaderV2.num_values", I32),
    field(2, "DataPageHeaderV2.num_nulls", I32),
    field(3, "DataPageHeaderV2.num_rows", I32),
    field(4, "DataPageHeaderV2.encoding", I32),
    field(5, "DataPageHeaderV2.definition_levels_byte_length", I32),
    field(6, "DataPageHeaderV2.repetition_levels_byte_length", I32),
    field(7, "DataPageHeaderV2.is_compressed", Bool),
    field(8, "DataPageHeaderV2.statistics", Struct(STATISTICS)),
];
