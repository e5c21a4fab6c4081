"""epochlint in the editor: a Language Server (`epochlint server`) and JSON Schemas for
yaml-language-server (`epochlint schema`). Only `engine_api` reaches into the engine."""
