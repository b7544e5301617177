package config

// Validate reports every setting of c that is out of range, each error
// naming its variable. Load and FromEnvironment return validated
// configurations; a Config built or changed in code may not be one.
func (c Config) Validate() error { return c.validate() }
