-- azure.json: the JSON codec (C, over cJSON) under its public name.
return require "azure.core.json"
